"""URLs of the telephony app: each screen family's views module owns its patterns."""

from telephony.views import (
    carriers,
    dialplan,
    my_phone,
    phones,
    servers,
)

app_name = "telephony"

urlpatterns: list = []
urlpatterns += servers.urlpatterns
urlpatterns += phones.urlpatterns
urlpatterns += my_phone.urlpatterns
urlpatterns += dialplan.urlpatterns
urlpatterns += carriers.urlpatterns
