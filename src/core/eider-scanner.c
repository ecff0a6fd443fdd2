/* eider-scanner.c: being written */
