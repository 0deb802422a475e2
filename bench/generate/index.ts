export { archiveLines, withSortedKeys, type ArchiveShape } from "./archive.js";
export { writeArchive, type ArchiveFile, type WrittenArchive } from "./write.js";
