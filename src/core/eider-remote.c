/* eider-remote.c: being written */
