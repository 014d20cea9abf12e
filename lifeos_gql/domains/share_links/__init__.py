"""Share links: read-only URLs to one node for people outside LifeOS."""
