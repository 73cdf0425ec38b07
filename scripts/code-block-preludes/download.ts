// Stand-in: downloads a file and stores it, returning its storage key.
declare function download(url: string): Promise<{ key: string }>;
