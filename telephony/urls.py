"""URLs of the telephony app: each screen family's views module owns its patterns."""

from telephony.views import (
    agent,
    agent_dispositions,
    calls,
    campaigns,
    carriers,
    dialer,
    dialplan,
    dispositions,
    dnc,
    leads,
    live,
    my_phone,
    phone_list,
    phone_selection,
    phones,
    server_checks,
    servers,
)

app_name = "telephony"

urlpatterns: list = []
urlpatterns += servers.urlpatterns
urlpatterns += phone_list.urlpatterns
urlpatterns += phones.urlpatterns
urlpatterns += phone_selection.urlpatterns
urlpatterns += my_phone.urlpatterns
urlpatterns += dialplan.urlpatterns
urlpatterns += carriers.urlpatterns
urlpatterns += agent.urlpatterns
urlpatterns += calls.urlpatterns
urlpatterns += live.urlpatterns
urlpatterns += campaigns.urlpatterns
urlpatterns += leads.urlpatterns
urlpatterns += dnc.urlpatterns
urlpatterns += dispositions.urlpatterns
urlpatterns += agent_dispositions.urlpatterns
urlpatterns += server_checks.urlpatterns
urlpatterns += dialer.urlpatterns
