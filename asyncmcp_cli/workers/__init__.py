"""``serve --workers N``: several server processes on one intake, supervised by one parent."""
