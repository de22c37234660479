"""Web views of the surveys app: public (customer survey pages, token-authorised) and agent pages (login)."""
