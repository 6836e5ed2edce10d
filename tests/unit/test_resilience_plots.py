"""The resilience and communication families import matplotlib only when a figure is drawn."""

from __future__ import annotations

import subprocess
import sys


def test_importing_the_families_and_their_plots_does_not_load_matplotlib() -> None:
    code = (
        "import sys\n"
        "import patterns.resilience, patterns.resilience.plots, patterns.resilience.simulation\n"
        "import patterns.communication\n"
        "assert 'matplotlib' not in sys.modules, 'matplotlib imported at module level'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_the_plots_still_draw() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from patterns.resilience.plots import plot_backoff_study, plot_breaker_timeline, plot_server_runs
    from patterns.resilience.simulation import ServerConfig, backoff_study, payment_scenario, simulate_server

    service, samples, changes = payment_scenario(None, duration=20.0)
    figures = [
        plot_breaker_timeline(samples, changes, service, duration=20.0),
        plot_backoff_study(backoff_study([2, 3], trials=1)),
        plot_server_runs({"run": simulate_server(ServerConfig(duration=2.0))}, slow_from=1.0, threads=200),
    ]
    assert all(len(f.axes) == 2 for f in figures)
    for figure in figures:
        plt.close(figure)
