"""Training: the engine that trains a compiled graph, with no Qt.

    config.TrainConfig              the settings of a run (JSON in the run folder) and their choices
    engine.Trainer                  train in this thread, reporting events to a callback
    events                          those events: Started, Step, Epoch, Checkpoint, Log, Done, Error
    worker.start_worker             the same in a separate process, for the window
    datasets                        digits, shapes, MNIST, Fashion-MNIST, CIFAR-10, folder:PATH
    tasks                           classification, segmentation, VAE, GAN
    run_folder / metrics_log        what a run leaves behind (run_folder names every file)
    run_listing                     the runs of a document, as the window lists them
    run_compare / sweep             runs side by side (`designer runs`), a grid of settings (`--sweep`)
    memory                          out of memory on any device, and a batch that fits by the estimate
    profile.profile_graph           measure a design here: time per layer, memory per batch size,
                                    the largest batch that fits (light until it measures)

Importing this package imports nothing: `config`, `events`, `worker`, `run_folder`,
`run_listing`, `run_compare`, `sweep`, `memory` and `profile` are light (no torch), the
rest loads torch when it is imported.
"""
