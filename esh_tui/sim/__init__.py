"""The offline Spotify: a seeded catalog, the Web API over it, and an oracle of right answers."""
