/* eider-engine.c: being written */
