"""The HTTP side of accounts: thin views over accounts.services (routes: accounts/urls.py)."""
