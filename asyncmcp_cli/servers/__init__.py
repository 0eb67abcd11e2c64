"""Ordinary MCP servers named in a config file, and the commands that start them."""
