from arb_cli.main import main

main()
