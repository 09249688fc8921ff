from .cli import main

# Guarded: training jobs start processes with the "spawn" method, which imports this module again.
if __name__ == "__main__":
    main()
