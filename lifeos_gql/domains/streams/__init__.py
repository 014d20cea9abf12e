"""Streams: the source channels a user owns (\"Work email\", \"Oura ring\")."""
