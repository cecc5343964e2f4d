"""URLs of the telephony app: each screen family's views module owns its patterns."""

app_name = "telephony"

urlpatterns: list = []
