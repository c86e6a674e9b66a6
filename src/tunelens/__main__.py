import sys

from tunelens.cli.main import main

sys.exit(main())
