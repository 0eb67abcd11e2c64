"""MCP protocol helpers shared by every transport: the wire codec, tool arguments, catalogs, relaying, safe text."""
