"""``python -m cloudlink`` runs the command-line tool."""

from cloudlink.cli import main

raise SystemExit(main())
