"""Where the book is published (generated from ``_config.yml``, not by hand).

``html.baseurl`` is the site's address and ``repository.url`` the repository's. After
changing either, run ``python -m frametabs.setup_cell --sync`` (``make address``).
"""

SITE_URL = "https://camadas-personalizadas.github.io/camadas-personalizadas/"
REPOSITORY = "https://github.com/camadas-personalizadas/camadas-personalizadas"
