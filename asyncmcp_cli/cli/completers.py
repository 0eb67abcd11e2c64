"""Values offered on Tab for options and arguments: transports, profiles, tool names.

Each runs in the completion request itself, before every keystroke's answer,
so it only reads local state (the registry's names, the profiles file, the
tool listing cache) and never loads the SDK or boto3 or touches the network.
A broken file means no suggestions, never an error on the user's prompt.
"""

# No `from __future__ import annotations`: Typer reads the signature of each of these completers once per
# option that names it (every build of a command), and string annotations would be evaluated each time.


def transports(incomplete: str) -> list[str]:
    """Transport names from the registry (built in and installed), and the http(s) URL forms."""
    from asyncmcp_cli.transports.names import all_names

    return [name for name in [*all_names(), "http://", "https://"] if name.startswith(incomplete)]


def profiles(incomplete: str) -> list[str]:
    """Profile names written by `asyncmcp provision`."""
    from asyncmcp_cli import profiles as saved
    from asyncmcp_cli.errors import ConfigurationError

    try:
        names = saved.names()
    except ConfigurationError:  # an unreadable profiles file: `--profile` itself will say so
        return []
    return [name for name in names if name.startswith(incomplete)]


def tools(incomplete: str) -> list[str]:
    """Tool names of the server used most recently, from the listing cache (see `connect.tool_cache`)."""
    from asyncmcp_cli.cli.connect.tool_cache import tool_names

    return [name for name in tool_names() if name.startswith(incomplete)]
