/* eider-media.c: being written */
