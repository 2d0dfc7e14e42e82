"""The configuration: the table of keys, loading and validating config.toml, the URL
rules, the secret and the encrypted credential."""
