// Stand-in: the URLs a block fetches.
declare const urls: string[];
