"""Write paths and side effects, one module per subdomain (`<thing>_<verb>` functions)."""

from telephony.services.asterisk import AsteriskService  # noqa: F401  (the name the guide uses)
