"""The demo server as an ordinary MCP server on stdin/stdout.

``python -m asyncmcp_cli.demo_stdio`` is what a desktop host would launch; it
lets ``asyncmcp connect --stdio ...`` (and the tests) talk to the same demo
tools without any queue in between.
"""

from __future__ import annotations

from asyncmcp_cli.demo import demo


def main() -> None:
    demo.run("stdio")


if __name__ == "__main__":
    main()
