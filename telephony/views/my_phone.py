"""My phone: an agent's own extension and how to set up their softphone. Nothing of anyone
else's: the phone is looked up by the logged-in user only, never by an id in the URL."""

from django.shortcuts import render
from django.urls import path

from telephony.models import Phone
from telephony.realtime.registration import registration_of
from users.roles import AGENT, role_required


@role_required(AGENT)
def my_phone(request):
    phone = Phone.objects.active_of(request.user)
    registration = registration_of(phone.extension) if phone else None
    return render(request, "telephony/my_phone.html",
                  {"phone": phone, "registration": registration})


urlpatterns = [
    path("my-phone/", my_phone, name="my_phone"),
]
