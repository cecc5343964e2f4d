"""Django admin for every telephony model, one module per subdomain."""
from telephony.admin import (
    calls,  # noqa: F401
    campaigns,  # noqa: F401
    carriers,  # noqa: F401
    dialer,  # noqa: F401
    dialplan,  # noqa: F401
    phones,  # noqa: F401
    realtime,  # noqa: F401
    servers,  # noqa: F401
)
