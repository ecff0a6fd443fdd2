/* eider-store.c: being written */
