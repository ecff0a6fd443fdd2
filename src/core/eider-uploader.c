/* eider-uploader.c: being written */
