"""Model packs, the language registry, engines and converters."""
