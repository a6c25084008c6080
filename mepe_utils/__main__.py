from mepe_utils.cli import main

raise SystemExit(main())
