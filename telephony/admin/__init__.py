"""Django admin for every telephony model, one module per subdomain."""
from telephony.admin import (
    carriers,  # noqa: F401
    dialplan,  # noqa: F401
)
