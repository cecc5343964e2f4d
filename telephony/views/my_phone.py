"""My phone: an agent's own extension and how to set up their softphone. Nothing of anyone
else's: the phone is looked up by the logged-in user only, never by an id in the URL."""

from django.shortcuts import render
from django.urls import path

from telephony.models import Phone
from telephony.services.registration import registration_of_phone
from users.roles import AGENT, role_required


@role_required(AGENT)
def my_phone(request):
    phone = Phone.objects.active_of(request.user)
    registration, problem = registration_of_phone(phone)
    return render(request, "telephony/my_phone.html",
                  {"phone": phone, "registration": registration,
                   "registration_problem": problem})


urlpatterns = [
    path("my-phone/", my_phone, name="my_phone"),
]
