"""Django admin for every telephony model, one module per subdomain."""
