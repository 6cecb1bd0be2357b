from carebudget.cli import main

# Guarded: what-if worker processes are spawned, and spawn re-imports the main module.
if __name__ == "__main__":
    main()
