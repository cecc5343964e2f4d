"""Write paths and side effects, one module per subdomain (`<thing>_<verb>` functions)."""
