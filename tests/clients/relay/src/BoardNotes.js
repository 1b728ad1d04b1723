// A board's notes paged forwards only, the common case: `first`/`after` (loadNext).
import { graphql } from "react-relay";

export const BoardNotes = graphql`
  fragment BoardNotes_board on Board
  @refetchable(queryName: "BoardNotesPaginationQuery")
  @argumentDefinitions(first: { type: "Int", defaultValue: 20 }, after: { type: "String" }) {
    name
    notes(first: $first, after: $after) @connection(key: "BoardNotes_notes") {
      totalCount
      edges {
        node {
          id
          title
        }
      }
    }
  }
`;
