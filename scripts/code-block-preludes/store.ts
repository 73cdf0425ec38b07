// Stand-in: writes one result somewhere durable.
declare function store(item: unknown): Promise<void>;
