"""The Web API's endpoints, by group; each handler takes (catalog, config, request, **path ids) and returns JSON."""
