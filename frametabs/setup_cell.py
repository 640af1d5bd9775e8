"""The first code cell of every book notebook: load ``%%tab``, installing it where missing.

On Colab or Binder (the book's launch buttons) and in a downloaded notebook, this
project's package is not installed; the cell installs it from the book's repository
before loading the extension, so the notebook runs there too.
"""

from __future__ import annotations

REPOSITORY = "https://github.com/camadas-personalizadas/camadas-personalizadas"
PACKAGE = "camadas-personalizadas"
SETUP_SOURCE = f"""\
# No Colab, no Binder ou num caderno baixado, instala antes o pacote deste livro.
import importlib.util
if importlib.util.find_spec("frametabs") is None:
    %pip install --quiet "{PACKAGE} @ git+{REPOSITORY}"
%load_ext frametabs"""
