"""Web views of tickets: `agent` (list, detail, new), `actions` (POST writes on a ticket), `public` (customers)."""
