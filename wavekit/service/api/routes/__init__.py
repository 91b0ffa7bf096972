"""The API's routers, one per resource: waves (and their file links), leaderboards, health."""
