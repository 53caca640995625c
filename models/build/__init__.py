"""Build-host tooling: converters, fetchers, the pinned default sources, the tiny-model generator, evaluation.

The device runtime never imports this package (an import-linter contract checks it), and the SD image leaves it
out. `tolk models install-defaults|convert|tiny|eval` use it on a PC.
"""
