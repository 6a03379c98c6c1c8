from toynn_cli.cli import main

main()
