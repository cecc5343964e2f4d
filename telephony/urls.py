"""URLs of the telephony app: each screen family's views module owns its patterns."""

from telephony.views import (
    carriers,
    dialplan,
)

app_name = "telephony"

urlpatterns: list = []
urlpatterns += dialplan.urlpatterns
urlpatterns += carriers.urlpatterns
