from wavekit.cli import app

app()
