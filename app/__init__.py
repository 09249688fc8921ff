"""gatescope's web app: FastAPI, served by uvicorn. Build it with app.main.create_app()."""

__version__ = "0.1.0"
