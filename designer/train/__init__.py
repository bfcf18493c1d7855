"""Training: the engine that trains a compiled graph, with no Qt.

    config.TrainConfig              the settings of a run (JSON in the run folder)
    engine.Trainer                  train in this thread, reporting events to a callback
    worker.start_worker             the same in a separate process, for the window
    datasets                        digits, shapes, MNIST, Fashion-MNIST, CIFAR-10, folder:PATH
    tasks                           classification, segmentation, VAE, GAN
    run_folder / metrics_log        what a run leaves behind

Importing this package imports nothing: `config` and `worker` are light (no torch),
the rest loads torch when it is imported.
"""
