from flowyard.cli import main

main()
