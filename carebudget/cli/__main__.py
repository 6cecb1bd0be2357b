from carebudget.cli import main

main()
