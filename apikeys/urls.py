"""apikeys' routes: ``identity``, ``resource`` and ``admin`` lists for barong/urls.py."""

identity: list = []
resource: list = []
admin: list = []
