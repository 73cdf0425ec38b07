// Stand-in: lines of text, one JSON record each.
declare const lines: AsyncIterable<string>;
